resource "huaweicloud_identity_role" "r" {
  count  = 1000000
  name   = "role-${count.index}"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
}
