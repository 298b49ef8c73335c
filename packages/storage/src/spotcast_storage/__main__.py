"""`python -m spotcast_storage` is the umbrella `spotcast` command."""

from spotcast_storage.umbrella import main

main()
