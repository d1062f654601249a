p = file("/etc/passwd")
