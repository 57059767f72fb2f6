from server.cli import app

app(prog_name="contentintel")
