${templatefile("policy.tpl", {})}${file("policy.tpl")}
