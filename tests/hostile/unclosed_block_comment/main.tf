resource "huaweicloud_identity_role" "r" {
  name = "x"
  /* a comment that never ends
  type = "XA"
}
