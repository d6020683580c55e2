"""`python demo.py` (or `make demo`): the portal, a worker and a mail catcher in one process."""
from portal.demo_runner import main

if __name__ == "__main__":
    main()
