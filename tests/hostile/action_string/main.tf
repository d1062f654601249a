resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = "ims:images:list" }] })
}
