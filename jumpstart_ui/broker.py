"""The embedded Celery broker (no REDIS_URL): kombu's filesystem transport, with messages written
whole before a worker can see them.

kombu's transport creates the message file, then writes it; a worker that lists the folder in
between moves the still-empty file away, fails to parse it and dies, and the message is lost.
Here a message is written under a name no worker looks at and renamed into place, which the
operating system does at once."""

import os
import uuid

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(filesystem.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        # Not "<stamp>_<uuid>.<queue>.msg": workers skip it until it is renamed.
        partial = os.path.join(self.data_folder_out, f"writing-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
