"""Products to suggest on an opportunity, from co-purchase statistics over the order history.

For the deal's products S (its lines; else what its account already bought), among customers
(accounts) with a non-cancelled order:

* **cross-sell** — each other product c, ranked by *lift*: confidence P(c | bought S) divided by
  the base rate P(c). Lift > 1 means buyers of S take c more often than customers in general;
  products bought by fewer than ``MIN_SUPPORT`` of S's buyers are left out (noise);
* **up-sell** — products of the same kind as one in S that S's buyers went on to buy
  *after* buying S (a later order), ranked by how many did;
* **bundles** — bundle products that contain one of S.

Statistics are at customer level (did the account ever buy it), not basket level, because a B2B
account's related purchases are often spread over several orders. The analytics issue may replace
this with a fitted recommender; the shape of :class:`Suggestions` is what the page and API read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Min, OuterRef, Subquery

from rapport.commerce.choices import OrderStatus
from rapport.commerce.models import BundleComponent, OrderLine, Product
from rapport.sales.models import Opportunity, OpportunityLine

MIN_SUPPORT = 2
LIMIT = 5


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    sku: str
    name: str
    buyers: int  # customers who bought the seed products and this one
    confidence: float  # share of the seed products' buyers who bought this one
    lift: float

    def as_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "sku": self.sku, "name": self.name, "buyers": self.buyers,
                "confidence": round(self.confidence, 4), "lift": round(self.lift, 4)}


@dataclass(frozen=True)
class Suggestions:
    seed_product_ids: tuple[int, ...]
    seed_buyers: int
    cross_sell: tuple[Suggestion, ...] = ()
    up_sell: tuple[Suggestion, ...] = ()
    bundles: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"seed_product_ids": list(self.seed_product_ids), "seed_buyers": self.seed_buyers,
                "cross_sell": [s.as_dict() for s in self.cross_sell], "up_sell": [s.as_dict() for s in self.up_sell],
                "bundles": list(self.bundles)}


def _lines():
    return OrderLine.objects.exclude(order__status=OrderStatus.CANCELLED)


def suggestions_for(*, opportunity: Opportunity, limit: int = LIMIT) -> Suggestions:
    """Cross-sell, up-sell and bundle suggestions for ``opportunity`` (the caller checked it may read it).

    Every statistic is one aggregate query: the seed buyers stay a subquery (never a Python list
    of account ids) and only the candidate products are read, so the cost grows with the order
    lines of the seed buyers, not with the catalogue or the customer base.
    """
    seeds = set(OpportunityLine.objects.filter(opportunity=opportunity).values_list("product_id", flat=True))
    if not seeds:
        seeds = set(_lines().filter(order__account_id=opportunity.account_id).values_list("product_id", flat=True))
    seed_ids = tuple(sorted(seeds))
    if not seeds:
        return Suggestions(seed_product_ids=(), seed_buyers=0)
    seed_buyers = _lines().filter(product_id__in=seeds).values("order__account_id")
    n_seed = seed_buyers.distinct().count()
    customers = _lines().values("order__account_id").distinct().count()
    together = dict(_lines().filter(order__account_id__in=seed_buyers).exclude(product_id__in=seeds)
                    .values("product_id").annotate(n=Count("order__account_id", distinct=True))
                    .filter(n__gte=MIN_SUPPORT).values_list("product_id", "n"))
    base = dict(_lines().filter(product_id__in=list(together)).values("product_id")
                .annotate(n=Count("order__account_id", distinct=True)).values_list("product_id", "n"))
    # Up-sell: same kind as a seed, bought on an order dated after the account's first seed purchase.
    first_seed = (_lines().filter(product_id__in=seeds, order__account_id=OuterRef("order__account_id"))
                  .values("order__account_id").annotate(first=Min("order__order_date")).values("first")[:1])
    kinds = set(Product.objects.filter(pk__in=seeds).values_list("kind", flat=True))
    later = dict(_lines().filter(order__account_id__in=seed_buyers, product__kind__in=kinds)
                 .exclude(product_id__in=seeds).annotate(first=Subquery(first_seed))
                 .filter(order__order_date__gt=F("first")).values("product_id")
                 .annotate(n=Count("order__account_id", distinct=True)).filter(n__gte=MIN_SUPPORT)
                 .values_list("product_id", "n"))
    bundle_ids = set(BundleComponent.objects.filter(component_id__in=seeds).values_list("bundle_id", flat=True))
    products = {p.pk: p for p in Product.objects.filter(active=True, pk__in=set(together) | set(later) | bundle_ids)
                .only("pk", "sku", "name")}
    cross = []
    for product_id, n in together.items():
        product = products.get(product_id)
        if product is None or not customers:
            continue
        confidence = n / n_seed
        lift = confidence / (base.get(product_id, n) / customers)
        cross.append(Suggestion(product_id, product.sku, product.name, n, confidence, lift))
    cross.sort(key=lambda s: (-s.lift, -s.buyers, s.product_id))
    up = [Suggestion(pid, products[pid].sku, products[pid].name, n, n / n_seed, 0.0)
          for pid, n in later.items() if pid in products]
    up.sort(key=lambda s: (-s.buyers, s.product_id))
    bundles = tuple({"product_id": b, "sku": products[b].sku, "name": products[b].name}
                    for b in sorted(bundle_ids) if b in products)
    return Suggestions(seed_product_ids=seed_ids, seed_buyers=n_seed, cross_sell=tuple(cross[:limit]),
                       up_sell=tuple(up[:limit]), bundles=bundles)
