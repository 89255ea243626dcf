"""The staged migration playbook as data, with measured gates: a later issue."""
