from lsecheck.cli import main

main()
