"""Running each job in a supervised child process."""
