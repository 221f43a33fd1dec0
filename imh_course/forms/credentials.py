"""The public form that checks an Open Badges credential: paste it, or upload the downloaded file."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Optional

from ..credentials.jose import MAX_TOKEN_CHARS
from .messages import max_length


class VerifyCredentialForm(FlaskForm):
    credential = TextAreaField(
        "Paste the credential",
        validators=[Optional(), max_length("the credential", MAX_TOKEN_CHARS)],
    )
    file = FileField("…or upload the downloaded file (.jwt)")
    submit = SubmitField("Check the credential")

    def token(self) -> str | None:
        """The pasted text or the uploaded file's text (None, with an error on the form, if neither)."""
        upload = self.file.data
        if upload is not None and getattr(upload, "filename", ""):
            raw = upload.read(MAX_TOKEN_CHARS + 1)
            if len(raw) > MAX_TOKEN_CHARS:
                self.file.errors = [
                    f"The file is larger than {MAX_TOKEN_CHARS // 1024} KB: not a credential."
                ]
                return None
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                self.file.errors = ["The file is not text: upload the .jwt file you downloaded."]
                return None
        text = (self.credential.data or "").strip()
        if not text:
            self.credential.errors = ["Paste a credential or choose its file."]
            return None
        return text
