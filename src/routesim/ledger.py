"""Money: every euro paid is received by someone, and the books say by whom and why.

Agents hold cash; money enters and leaves the simulated world only through named outside accounts
(families who send ransom, employers who pay wages, suppliers of boats and fuel, tramadol buyers).
The invariant the tests check every day: all holdings together equal what agents were endowed with.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol


class Account(Protocol):
    def debit(self, eur: float) -> None: ...
    def credit(self, eur: float) -> None: ...
    def holdings(self) -> float: ...


class Wallet:
    """Cash held in EUR by one account (a smuggler, an armed group, an authority, ...)."""

    cash: float = 0.0

    def debit(self, eur: float) -> None:
        self.cash -= eur

    def credit(self, eur: float) -> None:
        self.cash += eur

    def holdings(self) -> float:
        return self.cash


class OutsideAccount(Wallet):
    """Money that crosses the model's boundary (families, employers, suppliers, drug buyers)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cash = 0.0


class Ledger:
    """Double-entry book of payments, by kind (fee, right_of_way, bribe, ransom, ...)."""

    OUTSIDE = ("families", "employers", "suppliers", "drug_buyers")

    def __init__(self) -> None:
        self.outside = {name: OutsideAccount(name) for name in self.OUTSIDE}
        self.flows: dict[str, float] = defaultdict(float)
        self.endowed = 0.0

    def endow(self, eur: float) -> None:
        """Cash an agent brings into the world when it is created."""
        self.endowed += eur

    def pay(self, payer: Account, payee: Account, eur: float, kind: str) -> None:
        if eur <= 0.0:
            return
        payer.debit(eur)
        payee.credit(eur)
        self.flows[kind] += eur

    def reset_flows(self) -> None:
        """Forget flows (not holdings) at the end of the warm-up, so reports cover the run."""
        self.flows.clear()

    def total(self, *kinds: str) -> float:
        return sum(self.flows.get(k, 0.0) for k in kinds)
