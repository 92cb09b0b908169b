from machi.cli.main import run

run()
