"""Small embedded lists of common UK given and family names (no Faker needed).

Drawn from the ONS baby-name and surname frequency tables in spirit (common English,
Welsh, Scottish, Irish, South Asian, Polish and Caribbean names, reflecting the East
Midlands and Lancashire); weights are Zipf-like so a few names are very common, which
makes name-only linkage ambiguous, as it is in real data.
"""

from __future__ import annotations

import numpy as np

_MALE = (
    "James John David Michael Robert William Peter Paul Richard Thomas Christopher Mark "
    "Andrew Daniel Stephen Anthony George Matthew Joseph Jack Harry Oliver Charlie Samuel "
    "Benjamin Alexander Edward Joshua Ryan Liam Adam Luke Jacob Ethan Noah Mohammed "
    "Muhammad Ahmed Ali Hassan Imran Raj Sanjay Amit Vijay Anil Arjun Ravi Sunil Harpreet "
    "Gurpreet Jaswinder Piotr Tomasz Krzysztof Kevin Brian Gary Ian Keith Alan Colin Derek "
    "Frank Harold Kenneth Leonard Norman Ronald Stanley Walter Arthur Albert Ernest Leo "
    "Oscar Henry Jamie Craig Lee Wayne Dean Carl Neil Shaun Scott Simon Martin Philip Roger "
    "Graham Trevor Barry Dennis Raymond Terence Malcolm Gordon Sean Patrick Declan Callum"
)
MALE: tuple[str, ...] = tuple(_MALE.split())

_FEMALE = (
    "Mary Margaret Elizabeth Sarah Susan Patricia Jennifer Linda Barbara Helen Catherine "
    "Katherine Emma Claire Rachel Rebecca Laura Charlotte Amelia Olivia Isla Ava Emily "
    "Sophie Grace Lily Jessica Chloe Hannah Lucy Ella Mia Poppy Ruby Evie Freya Fatima "
    "Aisha Ayesha Zainab Maryam Priya Anita Sunita Geeta Kiran Asha Nisha Meena Parveen "
    "Shabana Harjinder Manjit Kulwinder Agnieszka Katarzyna Anna Joan Dorothy Doris Irene "
    "Jean Joyce Sheila Pauline Brenda Valerie Maureen Christine Janet Julie Karen Tracey "
    "Nicola Donna Joanne Michelle Kelly Gemma Stacey Louise Victoria Amy Lauren Zoe Megan "
    "Abigail Bethany Eileen Kathleen Edna Edith Elsie Ivy Gladys Winifred Hilda Marjorie "
    "Beryl Sandra Angela"
)
FEMALE: tuple[str, ...] = tuple(_FEMALE.split())

_FAMILY = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
    "Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison "
    "Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths "
    "Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox "
    "Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster "
    "Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer "
    "Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray "
    "Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart "
    "Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson "
    "Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant "
    "Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory "
    "Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding "
    "Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane "
    "Cooke Mistry Chauhan Parmar Lad Solanki Kowalski Nowak Wisniewski Campbell-Brown "
    "Smith-Jones"
)
FAMILY: tuple[str, ...] = tuple(_FAMILY.split())


def _zipf_weights(n: int, s: float = 0.8) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def draw(rng: np.random.Generator, names: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    """Indices into ``names``, Zipf-weighted."""
    return rng.choice(len(names), size=n, p=_zipf_weights(len(names)))


# Common variants a council record may hold instead of the GP-registered given name, and
# surname forms (double-barrelled names shortened, apostrophes dropped).
VARIANTS: dict[str, str] = {
    "William": "Bill",
    "Robert": "Bob",
    "James": "Jim",
    "Michael": "Mike",
    "Thomas": "Tom",
    "Christopher": "Chris",
    "Anthony": "Tony",
    "Matthew": "Matt",
    "Joseph": "Joe",
    "Samuel": "Sam",
    "Benjamin": "Ben",
    "Alexander": "Alex",
    "Edward": "Ted",
    "Daniel": "Dan",
    "Stephen": "Steve",
    "Andrew": "Andy",
    "Peter": "Pete",
    "David": "Dave",
    "Richard": "Rick",
    "Kenneth": "Ken",
    "Ronald": "Ron",
    "Leonard": "Len",
    "Terence": "Terry",
    "Raymond": "Ray",
    "Mohammed": "Muhammad",
    "Muhammad": "Mohammed",
    "Ahmed": "Ahmad",
    "Harpreet": "Harprit",
    "Margaret": "Maggie",
    "Elizabeth": "Liz",
    "Katherine": "Kathy",
    "Catherine": "Kate",
    "Jennifer": "Jenny",
    "Patricia": "Pat",
    "Susan": "Sue",
    "Rebecca": "Becky",
    "Victoria": "Vicky",
    "Dorothy": "Dot",
    "Kathleen": "Kath",
    "Christine": "Chris",
    "Valerie": "Val",
    "Pauline": "Paula",
    "Ayesha": "Aisha",
    "Aisha": "Ayesha",
    "Zainab": "Zaynab",
    "Maryam": "Mariam",
    "Fatima": "Fatimah",
    "Winifred": "Winnie",
    "O'Brien": "OBrien",
    "Campbell-Brown": "Brown",
    "Smith-Jones": "Jones",
}
