"""Risk stratification: who is likely to have an emergency admission in the next year.

Features from the analytics store (:mod:`.features`), the models
(:mod:`.model`), their evaluation (:mod:`.evaluate`) and the local cohorts and risk tiers
(:mod:`.cohorts`). The care coordination register and the FHIR API live in the web app.
"""

#: The models that can be fitted (:mod:`.model` fits them); here, so the command line
#: can list them without importing scikit-learn.
MODELS: tuple[str, ...] = ("logistic", "gbm")
