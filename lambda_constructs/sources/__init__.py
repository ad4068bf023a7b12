"""Event-source constructs: one module per trigger, each deriving its limits from the function.

They share one small protocol ([`FunctionTarget`][lambda_constructs.FunctionTarget]) and one
helper for failure paths and alarms.
"""
