"""Strict checks of user input, run before any request is sent to Atlas."""

from __future__ import annotations

import math
import re
from typing import Any

from airflow_provider_atlas_restore.exceptions import AtlasInputError

OBJECT_ID_PATTERN = re.compile(r"^[a-f0-9]{24}$")
CLUSTER_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
#: A private endpoint id as the spec types ``privateDownloadDeliveryUrls[].endpointId``.
PRIVATE_ENDPOINT_ID_PATTERN = re.compile(r"^vpce-[0-9a-f]{17}$")
MAX_ITEMS_PER_PAGE = 500
#: Items per page asked for when none is given: the most a page holds.
DEFAULT_ITEMS_PER_PAGE = 500
API_VERSIONS = ("v2", "v1.0")
DELIVERY_TYPES = ("automated", "download", "pointInTime")
#: The ``cluster_type`` values (see :mod:`~airflow_provider_atlas_restore.models.cluster_kind`).
CLUSTER_TYPES = ("auto", "dedicated", "flex")


def validate_object_id(value: Any, parameter: str) -> str:
    """
    Return ``value`` when it is an Atlas object id (24 lowercase hex characters).

    :param value: the id to check.
    :param parameter: the parameter name, for the error message.
    """
    if not isinstance(value, str) or not OBJECT_ID_PATTERN.fullmatch(value):
        raise AtlasInputError(
            f"{parameter}={value!r} is not a valid Atlas id: it must be 24 lowercase hexadecimal "
            "characters (pattern ^[a-f0-9]{24}$), for example '5b6212af90dc76637950a2c6'."
        )
    return value


def validate_group_id_or_default(value: Any, parameter: str = "group_id") -> str | None:
    """
    Return ``None`` when ``value`` asks for the connection's project (``None`` or ``""``), else the checked id.

    :param value: the project id given by the caller.
    :param parameter: the parameter name, for the error message.
    """
    if value is None or (isinstance(value, str) and value == ""):
        return None
    return validate_object_id(value, parameter)


def validate_conn_id(value: Any, parameter: str = "atlas_conn_id") -> str:
    """
    Return ``value`` when it can name an Airflow connection (a non-empty string).

    :param value: the connection id to check.
    :param parameter: the parameter name, for the error message.
    """
    if not isinstance(value, str) or not value.strip():
        raise AtlasInputError(
            f"{parameter}={value!r} is not a connection id: it must be the non-empty name of an "
            "Airflow connection, such as 'mongodb_atlas_default'."
        )
    return value


def validate_flag(value: Any, parameter: str) -> bool:
    """
    Return ``value`` when it is ``True`` or ``False``.

    :param value: the flag to check; strings such as ``"false"`` are refused, as they would count as true.
    :param parameter: the parameter name, for the error message.
    """
    if not isinstance(value, bool):
        raise AtlasInputError(f"{parameter}={value!r} is not allowed: it must be True or False.")
    return value


def validate_cluster_name(value: Any, parameter: str = "cluster_name") -> str:
    """
    Return ``value`` when it is a valid Atlas cluster name.

    :param value: the cluster name to check.
    :param parameter: the parameter name, for the error message.
    """
    if not isinstance(value, str) or not CLUSTER_NAME_PATTERN.fullmatch(value):
        raise AtlasInputError(
            f"{parameter}={value!r} is not a valid Atlas cluster name: it must start with a letter "
            "or digit and contain only ASCII letters, digits and hyphens "
            "(pattern ^[a-zA-Z0-9][a-zA-Z0-9-]*$)."
        )
    return value


#: The largest value of a 32-bit signed integer field of the API (``retentionInDays``, ``oplogTs``...).
INT32_MAX = 2**31 - 1


def validate_int_range(value: Any, parameter: str, minimum: int, maximum: int | None = None) -> int:
    """
    Return ``value`` when it is an integer within ``minimum`` .. ``maximum``.

    :param value: the number to check; booleans are refused.
    :param parameter: the parameter name, for the error message.
    :param minimum: the smallest allowed value.
    :param maximum: the largest allowed value, or ``None`` for no upper bound.
    """
    in_range = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not in_range:
        allowed = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise AtlasInputError(f"{parameter}={value!r} is out of range: it must be an integer {allowed}.")
    return int(value)


def validate_choice(value: Any, parameter: str, choices: tuple[str, ...]) -> str:
    """
    Return ``value`` when it is one of ``choices``.

    :param value: the value to check.
    :param parameter: the parameter name, for the error message.
    :param choices: the allowed values.
    """
    if value not in choices:
        allowed = ", ".join(repr(choice) for choice in choices)
        raise AtlasInputError(f"{parameter}={value!r} is not allowed: it must be one of {allowed}.")
    return str(value)


def validate_private_endpoint_id(value: Any, parameter: str = "private_endpoint_id") -> str:
    """
    Return ``value`` when it is a private endpoint id such as ``vpce-3bf78b0ddee411ba1``.

    :param value: the id to check.
    :param parameter: the parameter name (or connection extra), for the error message.
    """
    if not isinstance(value, str) or not PRIVATE_ENDPOINT_ID_PATTERN.fullmatch(value):
        raise AtlasInputError(
            f"{parameter}={value!r} is not a private endpoint id: it must be 'vpce-' and 17 lowercase "
            "hexadecimal characters (pattern ^vpce-[0-9a-f]{17}$), for example 'vpce-3bf78b0ddee411ba1'."
        )
    return value


def validate_cluster_type(value: Any, parameter: str = "cluster_type") -> str:
    """
    Return ``value`` when it is ``"auto"``, ``"dedicated"`` or ``"flex"``.

    :param value: the cluster type to check; ``"auto"`` asks Atlas which kind the cluster is.
    :param parameter: the parameter name, for the error message.
    """
    if value not in CLUSTER_TYPES:
        raise AtlasInputError(
            f"{parameter}={value!r} is not allowed: it must be 'auto' (ask Atlas whether the cluster is "
            "dedicated or flex), 'dedicated' or 'flex'."
        )
    return str(value)


def validate_templated_int(value: Any, parameter: str) -> int | None:
    """
    Return a templated number as an int (templates render to strings); ``None`` stays ``None``, other types are refused.

    :param value: an int, text such as ``"42"``, or ``None``.
    :param parameter: the parameter name, for the error message.
    """
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise AtlasInputError(
        f"{parameter}={value!r} is not a whole number: it must be an integer, or text such as '42'."
    )


def validate_positive_seconds(value: Any, parameter: str) -> float:
    """
    Return a positive, finite number of seconds as a float, or raise naming the parameter.

    :param value: the number of seconds.
    :param parameter: the parameter name, for the error message.
    """
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number) or number <= 0:
        raise AtlasInputError(
            f"{parameter}={value!r} is not allowed: it must be a number of seconds above 0."
        )
    return float(number)
