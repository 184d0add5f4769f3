"""One module per CLI command: parse arguments -> call the library -> print. Exit codes:"""

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1  # a bug in trainctl
EXIT_USER_ERROR = 2  # bad config, data, checkpoint or argument (a TrainctlError)
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM; a resumable checkpoint was saved
