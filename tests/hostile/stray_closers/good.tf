# A well-formed role in the same module: it must still be scanned (IMS101: "lsit" is a typo).
resource "huaweicloud_identity_role" "good" {
  name   = "good"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit"] }] })
}
