resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = file("../../outside")
}
resource "huaweicloud_identity_role" "r2" {
  name   = "r2"
  type   = "XA"
  policy = templatefile("${path.root}/../../outside", {})
}
