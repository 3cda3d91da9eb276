import sys

if __name__ == "__main__":
    # Before the launcher's imports (Hydra): the spare child and the MLflow writer start importing now.
    from converter.cli.helpers_start import start_helpers

    start_helpers(sys.argv[1:])
    try:
        from converter.cli.main import main_exit

        main_exit()
    finally:  # a command line Hydra's parser refuses ends before main() could close the writer
        if "converter.tracking.writer" in sys.modules:  # imported only where one was started
            sys.modules["converter.tracking.writer"].close()
