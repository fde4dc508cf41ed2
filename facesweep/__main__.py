from facesweep.cli import entry

entry()
