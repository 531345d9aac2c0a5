"""Feature flags through OpenFeature: a provider reading this environment's flags file, re-read when it changes.

The file is JSON, {"flag-name": true}, kept in the host's shared config (config.FLAGS_FILE) and
changed there by `ladder flags set` without a deploy. A missing or broken file turns every flag
off (the default each call site passes), so an unfinished feature stays hidden.
"""

import json
import os
import threading

from openfeature import api
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

import config


class FileProvider(AbstractProvider):
    """Boolean flags from a JSON file, re-read whenever its modification time or size changes."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self._seen = None
        self._flags = {}
        self._error = None
        self._lock = threading.Lock()

    def get_metadata(self):
        return Metadata(name="file")

    def _current(self):
        """The file's flags, read again only when it changed; {} with the reason when it is missing or bad."""
        try:
            st = os.stat(self.path)
            seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            seen = None
        with self._lock:
            if seen != self._seen:
                self._flags, self._error = {}, f"no flags file at {self.path}"
                if seen is not None:
                    try:
                        with open(self.path) as f:
                            data = json.load(f)
                        if not isinstance(data, dict):
                            raise ValueError("not a JSON object")
                        self._flags, self._error = data, None
                    except (OSError, ValueError) as exc:
                        self._error = f"{self.path}: {exc}"
                self._seen = seen
            return self._flags, self._error

    def _resolve(self, flag_key, default_value, kind):
        flags, error = self._current()
        if error is not None:
            return FlagResolutionDetails(default_value, ErrorCode.GENERAL, error, Reason.ERROR)
        if flag_key not in flags:
            return FlagResolutionDetails(default_value, ErrorCode.FLAG_NOT_FOUND, flag_key, Reason.DEFAULT)
        value = flags[flag_key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return FlagResolutionDetails(default_value, ErrorCode.TYPE_MISMATCH, flag_key, Reason.ERROR)
        return FlagResolutionDetails(value, reason=Reason.STATIC)

    def resolve_boolean_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, bool)

    def resolve_string_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, str)

    def resolve_integer_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, int)

    def resolve_float_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, float)

    def resolve_object_details(self, flag_key, default_value, evaluation_context=None):
        return self._resolve(flag_key, default_value, (dict, list))


api.set_provider(FileProvider(config.FLAGS_FILE))
client = api.get_client("app")


def enabled(name):
    """True when the flag is on in this environment; off when it is missing or the file cannot be read."""
    return client.get_boolean_value(name, False)
