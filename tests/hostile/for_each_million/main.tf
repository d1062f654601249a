resource "huaweicloud_identity_role" "r" {
  for_each = toset([for i in range(1000000) : tostring(i)])
  name     = "role-${each.key}"
  type     = "XA"
  policy   = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = ["ims:images:list"] }] })
}
