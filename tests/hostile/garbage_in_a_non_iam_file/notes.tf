This is not HCL: it is a note someone saved with the wrong name.
