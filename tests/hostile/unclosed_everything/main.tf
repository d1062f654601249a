resource "huaweicloud_identity_role" "r" {
  name = "${"${"${[{(
  policy = jsonencode({ Statement = [{ Action = ["ims:
