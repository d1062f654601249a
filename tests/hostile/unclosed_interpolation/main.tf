resource "huaweicloud_identity_role" "r" {
  name   = "x-${var.env"
  type   = "XA"
}
