from pushauth_device.main import run

run()
