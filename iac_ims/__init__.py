"""iac-ims: static analysis of Huawei Cloud IAM in Terraform for IMS permissions."""

__version__ = "0.1.0"
