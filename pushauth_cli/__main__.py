from pushauth_cli.main import run

run()
