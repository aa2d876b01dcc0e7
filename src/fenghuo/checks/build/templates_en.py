"""English message templates for build step ``classifier_en``: harmful messages of each
category and harmless look-alikes, written for this project (see ``classifier_en``'s docstring).
Every fourth phrase of a slot is held out (``_pool``); a held-out text takes one slot from those.
"""

from __future__ import annotations

import random

GROUPS = ["immigrants", "Muslims", "Jews", "black people", "women", "gay people", "trans people", "Mexicans", "Asians", "disabled people",
          "Christians", "old people", "refugees", "Arabs", "Indians", "poor people"]  # fmt: skip
PEOPLE = ["my neighbor", "my boss", "my ex", "that teacher", "my coworker", "the guy next door", "my stepdad", "her boyfriend", "the landlord", "my classmate"]

GEN: dict[str, tuple[tuple[str, ...], list[list]]] = {
    "porn": (("porn",), [
        ["send me", "i want to see", "show me", "post more", "dm me your", "trade", "selling", "looking for"],
        ["your nudes", "naked pics", "explicit videos of you", "dirty pics", "pussy pics", "dick pics", "hardcore porn clips", "sex tapes", "your tits"],
        [None, "right now", "tonight", "babe", "for cash", "no limits", "so i can jerk off", "and make me horny"],
    ]),
    "porn_act": (("porn",), [
        ["i want to", "let me", "tonight i will", "i'm going to", "come over and i'll", "i can't wait to"],
        ["fuck you hard", "rip your clothes off and fuck you", "suck your cock", "lick your pussy", "make you cum", "ride you until you scream", "bend you over the bed"],
        [None, "all night", "until you beg", "while you moan my name", "slowly", "like the slut you are"],
    ]),
    "porn_ad": (("porn",), [
        ["hot horny singles", "escort service", "live sex cams", "xxx videos", "barely legal teens", "milfs", "naughty girls", "nude webcam shows"],
        ["in your area", "waiting for you", "24/7", "uncensored", "full hd", "free to watch"],
        ["click here", "sign up now", "text me", "link in bio", "hookups tonight", None],
    ]),
    "hate": (("discrimination",), [
        ["{g}", "all {g}", "these {g}", "filthy {g}", "you {g}"],
        ["are subhuman", "are vermin", "are a disease on this country", "are too stupid to vote", "should be deported", "are ruining everything",
         "are animals", "should not be allowed to breed", "are all criminals", "are inferior", "don't deserve rights", "are parasites"],
        [None, "and everyone knows it", "period", "it's a fact", "honestly", "get them out"],
    ]),
    "hate_threat": (("discrimination", "violence"), [
        ["we should", "someone needs to", "i will", "it's time to", "let's"],
        ["kill all", "exterminate the", "wipe out the", "gas the", "shoot every one of the", "burn the homes of the"],
        ["{g}"],
        [None, "before it's too late", "tonight", "they deserve it", "one by one"],
    ]),
    "harass": (("offensive",), [
        ["you are", "you're", "what a", "shut up you", "look at this", "nobody likes you, you"],
        ["worthless idiot", "pathetic loser", "disgusting pig", "stupid bitch", "fat cow", "ugly piece of shit", "retard", "brainless moron",
         "dumb whore", "waste of oxygen", "fucking clown", "useless asshole"],
        [None, "go away", "everyone laughs at you", "do us all a favor and disappear", "lol", "you should be ashamed"],
    ]),
    "threat": (("violence",), [
        ["i will", "i'm going to", "i swear i'll", "tomorrow i will", "next time i see you i'll", "i want to"],
        ["beat you to death", "stab", "shoot", "slit the throat of", "break every bone of", "burn down the house of", "strangle", "bash in the skull of"],
        ["you", "{p}", "his whole family", "her", "everyone at school"],
        [None, "and enjoy it", "with a knife", "with my gun", "and nobody will find the body", "tonight"],
    ]),
    "violence_howto": (("violence",), [
        ["how do i", "tell me how to", "best way to", "step by step,", "what's the easiest way to"],
        ["make a pipe bomb", "kill {p}", "poison {p} without getting caught", "torture someone", "build a bomb to blow up", "hurt {p} so it leaves no marks",
         "shoot up a school", "beat someone unconscious"],
        [None, "quickly", "without anyone noticing", "at home", "and get away with it"],
    ]),
    "selfharm": (("harm",), [
        ["i want to", "i'm going to", "tonight i will", "i keep thinking i should", "i've decided to", "i just want to"],
        ["kill myself", "end my life", "cut myself again", "overdose on my pills", "hang myself", "jump off the bridge", "slit my wrists", "starve myself until i disappear"],
        [None, "nobody would care", "it's the only way out", "i'm done", "i have the pills ready", "goodbye everyone"],
    ]),
    "selfharm_howto": (("harm",), [
        ["what is the most painless way to", "how many pills does it take to", "how do i", "tell me the best way to", "how deep do i need to"],
        ["kill myself", "die in my sleep", "overdose", "cut to bleed out", "end it all", "hang myself", "hide my cuts and keep cutting"],
        [None, "quickly", "without anyone stopping me", "tonight", "for sure"],
    ]),
    "crime": (("crime",), [
        ["how can i", "teach me how to", "what's the best way to", "help me", "i need to know how to", "explain how to"],
        ["steal a car", "launder money", "make fake ids", "shoplift from walmart", "break into a house", "sell stolen credit cards", "cook meth",
         "smuggle drugs across the border", "counterfeit money", "rob a bank", "evade taxes with offshore accounts", "hack into a bank account"],
        [None, "without getting caught", "and not leave evidence", "fast", "so the police never find out"],
    ]),
    "privacy": (("privacy",), [
        ["find me", "give me", "look up", "i need", "get me", "post"],
        ["the home address of", "the phone number of", "the social security number of", "the bank details of", "the passwords of", "the medical records of"],
        ["{p}", "that journalist", "the girl from the gym", "my ex-wife", "this random guy on twitter", "my coworker"],
        [None, "so i can show up at her door", "without her knowing", "and dox him", "i want to track them"],
    ]),
    "privacy_track": (("privacy",), [
        ["how do i", "help me", "what app lets me"],
        ["secretly track", "read the texts of", "spy on", "hack the email of", "put a hidden camera on", "get into the phone of"],
        ["my wife", "my girlfriend", "{p}", "my employees", "my daughter's boyfriend"],
        [None, "without them knowing", "without consent", "remotely"],
    ]),
}  # fmt: skip

# Harmless text that uses the same words: the model must learn the act, not the topic.
HARMLESS: dict[str, list[list]] = {
    "news": [
        ["police said", "according to the report,", "officials confirmed", "witnesses said", "the court heard that", "reuters reports"],
        ["a man was stabbed", "two people were shot", "a bomb exploded", "the suspect killed three people", "a teenager died of an overdose",
         "the gunman opened fire", "a woman was assaulted", "the attack left dozens injured", "the riot turned violent"],
        ["near the station on friday", "in the city centre last night", "after an argument", "outside a school", "during the protest"],
        [None, "an investigation is ongoing", "the suspect has been arrested", "victims were taken to hospital", "police appealed for witnesses"],
    ],
    "medical": [
        ["what is the maximum safe dose of", "can i take", "what are the side effects of", "is it dangerous to mix alcohol with", "how long does it take for", "my doctor prescribed"],
        ["ibuprofen", "paracetamol", "antidepressants", "sleeping pills", "insulin", "codeine", "birth control pills", "blood thinners"],
        [None, "for a headache", "with my other medication", "during pregnancy", "to work", "should i worry"],
    ],
    "antihate": [
        ["{g}", "all people, including {g},", "our community stands with {g}:", "remember that {g}"],
        ["deserve the same respect as everyone", "should never be treated as inferior", "are not criminals because of who they are",
         "have the same rights as anyone else", "are our neighbors and friends", "should be safe from harassment"],
        [None, "calling them names is wrong", "hate has no place here", "stereotypes hurt real people", "please report hate speech"],
    ],
    "refusal": [
        ["i'm sorry, but", "sorry,", "as an ai assistant,", "i can't do that:", "i won't help with this:"],
        ["i can't help with making weapons", "i can't provide instructions for hurting someone", "i can't share someone's home address",
         "i won't write sexual content", "i can't help you track a person without consent", "i can't assist with stealing",
         "i won't insult people for you", "i can't give advice on self-harm"],
        [None, "if you're in danger, please contact local emergency services", "is there something else i can help with?",
         "if you are struggling, please talk to someone you trust"],
    ],
    "support": [
        ["my friend told me she wants to kill herself,", "my brother has been cutting himself,", "i've been feeling really depressed lately,",
         "someone in my class talks about suicide,", "my partner keeps threatening to hurt himself,"],
        ["how can i support them?", "what should i say?", "where can i find a suicide prevention hotline?", "who can we call for help?",
         "how do i get professional help?", "what are the warning signs?"],
    ],
    "figurative": [
        ["how do i kill", "what's the command to kill", "how can i shoot", "how do i execute", "i want to terminate", "how can i destroy"],
        ["a python process", "a background job in linux", "a photo in low light", "a sql query", "the container", "my opponent in chess",
         "the competition at the science fair", "a video for my vlog"],
        [None, "properly", "on ubuntu", "with my phone", "without losing data"],
    ],
    "idioms": [
        ["that comedian", "this song", "my sister", "the new chef", "our team", "honestly this pizza"],
        ["absolutely killed it", "slaps so hard", "is killing it at work", "blew the audience away", "murdered that karaoke song", "is to die for",
         "knocked it out of the park", "destroyed the exam"],
        [None, "last night", "lol", "i'm dying of laughter", "break a leg tomorrow"],
    ],
    "history": [
        ["why did", "what caused", "how many people died in", "what were the consequences of", "explain the history of"],
        ["world war ii", "the holocaust", "the rwandan genocide", "the attack on pearl harbor", "the atomic bombing of hiroshima", "the civil rights movement",
         "the french revolution", "the slave trade"],
        [None, "for my history essay", "in simple terms", "and how is it remembered today"],
    ],
    "fiction": [
        ["in my novel,", "in the video game,", "for my screenplay,", "in dungeons and dragons,", "in the movie,"],
        ["how does the detective figure out who poisoned the victim?", "how do i defeat the dragon boss?", "the villain threatens the hero; how should the hero respond?",
         "what's the best weapon to kill zombies?", "how should i describe a sword fight?", "how does the heist crew plan the bank robbery scene?"],
    ],
    "education": [
        ["what is", "can you explain", "how do i talk to my kids about", "what does the law say about", "how can i protect myself from"],
        ["consent", "safe sex", "online grooming", "domestic violence", "identity theft", "doxxing", "hate speech", "cyberbullying", "money laundering", "sexual harassment at work"],
        [None, "for a school project", "in simple words", "and how to report it"],
    ],
    "everyday": [
        ["can you help me", "i'd like to", "what's a good way to", "any tips to", "how do i"],
        ["plan a birthday party", "cook chicken breast", "write a cover letter", "fix a leaking tap", "learn spanish", "train my puppy",
         "save money for a trip", "choose a laptop", "sleep better", "start running"],
        [None, "this weekend", "on a budget", "thanks!", "please"],
    ],
    "safety": [
        ["how should i store", "what should i do if my child swallows", "is it safe to dispose of", "how do i safely handle"],
        ["bleach", "kitchen knives", "a hunting rifle", "old medication", "fireworks", "rat poison", "batteries"],
        [None, "at home", "with kids around", "according to the rules"],
    ],
}  # fmt: skip


def _pool(options: list, heldout: bool) -> list:
    """Every fourth phrase of a slot is held out; ``None`` (the slot left out) is in both."""
    picked = [o for i, o in enumerate(options) if o is None or (i % 4 == 3) == heldout]
    return picked or [o for o in options if o is not None]


def generate(split: str, per_kind: int, seed: int) -> list[tuple[str, frozenset[str], str]]:
    """(text, categories, kind) of generated messages; ``split``: "train" or "heldout"."""
    out: list[tuple[str, frozenset[str], str]] = []
    seen: set[str] = set()
    kinds = [(k, c, s) for k, (c, s) in sorted(GEN.items())] + [(f"neg_{k}", (), s) for k, s in sorted(HARMLESS.items())]
    for kind, cats, slots in kinds:
        rng = random.Random(f"{seed}:{split}:{kind}")
        for _ in range(per_kind):
            new = rng.randrange(len(slots)) if split == "heldout" else -1
            parts = [rng.choice(_pool(s, i == new)) for i, s in enumerate(slots)]
            r = rng.random()
            if r < 0.15:
                parts = [rng.choice(["hey", "lol", "honestly", "ok so", "listen,", "btw"])] + parts
            text = " ".join(p for p in parts if p).replace("{g}", rng.choice(GROUPS)).replace("{p}", rng.choice(PEOPLE))
            if rng.random() < 0.3:
                text = text[0].upper() + text[1:]
            if text in seen:
                continue
            seen.add(text)
            out.append((text, frozenset(cats), kind.split("_")[0] if not kind.startswith("neg_") else kind))
    return out
