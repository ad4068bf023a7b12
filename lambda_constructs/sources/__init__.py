"""Event-source constructs: one module per trigger, each deriving its limits from the function.

They share one small protocol (:class:`lambda_constructs.sources._base.FunctionTarget`) and one
helper for failure paths and alarms.
"""
