# The module lives in the parent directory, outside the scanned tree.
module "shared" {
  source = "../"
}

resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = file("../outside-secret.json")
}
