resource "huaweicloud_identity_role" "r" {
  name   = "x"
  policy = <<EOF
{"Version": "1.1"}
}
