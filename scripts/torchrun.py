#!/usr/bin/env python3
# torchrun for Debian 12's PyTorch 1.13 on Python 3.11, where torchrun fails at start-up
# ("'NoneType' object has no attribute 'get'"): its Std.from_str compares an Enum member
# with an int, which Python 3.11 no longer equates, so every --redirects/--tee value
# parses to None. This parses them itself and then runs torchrun unchanged:
#   python3 scripts/torchrun.py --nproc_per_node 2 --no_python kdep distill ...
from torch.distributed.elastic.multiprocessing import api


def _from_str(cls, vm):
    if vm.isdigit():
        return cls(int(vm))
    return {int(k): cls(int(v)) for k, v in (p.split(":") for p in vm.split(","))}


api.Std.from_str = classmethod(_from_str)

from torch.distributed.run import main  # noqa: E402

main()
