#!/usr/bin/env python3
"""moto_server, with each DynamoDB request applied on its own.

moto 5.2.5 answers requests on several threads. Its TransactWriteItems copies
every table it touches first and, when any condition fails, puts the copy
back: a write another request made to that table in the meantime is undone
after it was acknowledged. DynamoDB never loses an acknowledged write, and the
helpdesk's functions write concurrently (a ticket's version conflict is an
ordinary event), so the local stack would drop data now and then. Here every
DynamoDB request holds one lock, so a transaction's copy and rollback never
span another write. Other services stay concurrent (SQS long polls).

    moto_server.py -H 127.0.0.1 -p 5000   (the same arguments as moto_server)
"""

from __future__ import annotations

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_DYNAMODB = threading.Lock()
_call_action = DynamoHandler.call_action


def _one_at_a_time(self: DynamoHandler):  # type: ignore[no-untyped-def]
    with _DYNAMODB:
        return _call_action(self)


DynamoHandler.call_action = _one_at_a_time  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
