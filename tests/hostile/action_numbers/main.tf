resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list", 42, 1.5, true, null, ["ims:images:get"], { a = 1 }] }] })
}
