"""ArmedGroup: a militia or armed movement holding territory along the routes.

It charges right-of-way on convoys crossing its legs, which buys the convoy protection (paid by the
smuggler at departure); it holds travellers for ransom at checkpoints, most of all those crossing
without protection; and where it runs or guards detention it extorts detainees. Control of a leg
(0..1) scales all of these; policies can widen or narrow it. Revenue is in the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from routesim.ledger import Wallet

if TYPE_CHECKING:
    from routesim.agents.migrant import Migrant
    from routesim.model import RouteModel


class ArmedGroup(Wallet, mesa.Agent):
    model: RouteModel

    def __init__(self, model: RouteModel, name: str) -> None:
        super().__init__(model)
        self.name = name
        self.cash = 0.0

    def kidnap_chance(self, leg: int, protected: bool) -> float:
        params = self.model.params.armed_groups
        chance = self.model.conditions.armed_control_on(leg) * params.kidnap_rate
        return chance * (1 - params.protection) if protected else chance

    def kidnap(self, migrant: Migrant) -> None:
        migrant.kidnap(self, self.model.params.armed_groups.captivity_days)

    def release(self, migrant: Migrant) -> None:
        """End of captivity: ransom paid (by the family if need be), or sold into forced labour."""
        model = self.model
        params = model.params.armed_groups
        migrant.captor = None
        if model.rng.random() < params.captivity_death_rate:
            migrant.die("captivity")
        elif migrant.pay_or_family(self, params.ransom_eur, "ransom"):
            migrant.set_state("waiting")
            migrant.decide()
        else:
            migrant.exploit(params.forced_labour_days)

    def extort(self, migrant: Migrant) -> bool:
        """Demand money of a detainee; True if paid."""
        return migrant.pay_or_family(
            self, self.model.params.armed_groups.extortion_eur, "extortion"
        )
