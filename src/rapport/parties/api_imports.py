from ninja import Router

router = Router(tags=["imports and exports"])
