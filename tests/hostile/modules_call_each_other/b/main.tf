module "a" {
  source = "../a"
}

resource "huaweicloud_identity_role" "in_b" {
  name   = "in_b"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit"] }] })
}
