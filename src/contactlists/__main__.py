from contactlists.cli import main

main()
