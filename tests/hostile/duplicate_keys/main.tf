resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = <<EOF
{"Version": "1.1", "Version": "1.0",
 "Statement": [{"Effect": "Allow", "Effect": "Deny", "Action": ["ims:images:list"], "action": ["ims:*:*"]}]}
EOF
}
