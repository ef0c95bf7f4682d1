"""Publishing: build, check the contract, sign, and upload with twine."""
