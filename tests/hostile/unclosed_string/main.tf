resource "huaweicloud_identity_role" "r" {
  name = "x
  type = "XA"
}
