"""The extra fields of the ``mongodb_atlas`` connection form on Airflow 2.11 (3.x reads the provider info)."""

from __future__ import annotations

from typing import Any


def connection_form_widgets() -> dict[str, Any]:
    """Return the form fields for authentication, project id, API version and scheme."""
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import StringField
    from wtforms.validators import Optional, Regexp

    return {
        "auth_type": StringField(
            lazy_gettext("Authentication (digest or service_account)"),
            widget=BS3TextFieldWidget(),
            default="digest",
        ),
        "group_id": StringField(
            lazy_gettext("Project (group) id"),
            widget=BS3TextFieldWidget(),
            validators=[Optional(), Regexp(r"^[a-f0-9]{24}$")],
        ),
        "api_version": StringField(
            lazy_gettext("API version (v2 or v1.0)"), widget=BS3TextFieldWidget(), default="v2"
        ),
        "scheme": StringField(
            lazy_gettext("Scheme (https, or http for an emulator)"),
            widget=BS3TextFieldWidget(),
            default="https",
        ),
    }
