from iac_ims.cli import main

main()
