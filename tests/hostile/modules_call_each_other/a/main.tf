module "b" {
  source = "../b"
}

resource "huaweicloud_identity_role" "in_a" {
  name   = "in_a"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:lsit"] }] })
}
