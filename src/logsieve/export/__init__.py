"""``logsieve export``: what a server defines, read through its AWS API and written as
CloudFormation or Terraform that deploys the same to real AWS."""

from .cloudformation import cloudformation
from .inventory import Inventory, read
from .terraform import terraform

__all__ = ["Inventory", "cloudformation", "read", "terraform"]
