"""One organization's setup and its views of itself: orgs (departments, members, settings),
imports (the CSV pipeline), directory_sync (users from a directory, through the import),
registration (self sign-up), dashboard, reports and the demo data."""
