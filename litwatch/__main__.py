from .entry import main

# Guarded: spawned workers import the parent's __main__ module (as
# "__mp_main__"), which must not start the CLI again.
if __name__ == "__main__":
    main()
