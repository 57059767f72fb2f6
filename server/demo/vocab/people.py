"""People: every country casts from a regional pool of invented names."""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------------------------
# People: every country casts from a regional pool of invented names
# --------------------------------------------------------------------------------------------

REGION_OF_COUNTRY: Final = {
    "US": "anglo",
    "GB": "anglo",
    "IE": "anglo",
    "CA": "anglo",
    "AU": "anglo",
    "IN": "indian",
    "KR": "korean",
    "JP": "japanese",
    "HK": "chinese",
    "ES": "hispanic",
    "MX": "hispanic",
    "AR": "hispanic",
    "CO": "hispanic",
    "CL": "hispanic",
    "BR": "lusophone",
    "FR": "french",
    "DE": "german",
    "IT": "italian",
    "TR": "turkish",
    "NG": "nigerian",
    "EG": "arabic",
    "LB": "arabic",
    "JO": "arabic",
    "AE": "arabic",
    "TH": "thai",
    "PH": "filipino",
    "SE": "nordic",
    "NO": "nordic",
    "DK": "nordic",
}

# Number of distinct actors per region (directors are drawn separately, about 1 in 7 of that).
CAST_POOL_SIZE: Final = {
    "anglo": 560,
    "hispanic": 190,
    "indian": 120,
    "korean": 120,
    "japanese": 75,
    "french": 70,
    "german": 45,
    "italian": 40,
    "turkish": 35,
    "nigerian": 45,
    "arabic": 35,
    "thai": 25,
    "filipino": 30,
    "lusophone": 45,
    "chinese": 22,
    "nordic": 40,
}
# Regions whose names are written family name first.
SURNAME_FIRST: Final = frozenset({"korean", "chinese"})

FIRST_NAMES_F: Final[dict[str, tuple[str, ...]]] = {
    "anglo": (
        "Emma", "Olivia", "Ava", "Sophie", "Grace", "Chloe", "Hannah", "Lily", "Maya", "Zoe",
        "Abigail", "Claire", "Natalie", "Rachel", "Megan", "Lauren", "Jessica", "Amber", "Riley",
        "Harper", "Madison", "Erin", "Fiona", "Imogen", "Poppy", "Eleanor", "Charlotte", "Nora",
        "Tessa", "Jade", "Kayla", "Brooke", "Paige", "Naomi", "Simone", "Keisha", "Tamsin",
        "Holly", "Bridget", "Molly", "Quinn", "Sadie", "Willa", "June", "Iris", "Margot",
        "Hazel", "Vivian", "Delia", "Rosalind",
    ),
    "hispanic": (
        "Lucía", "Valentina", "Camila", "Sofía", "Isabela", "Mariana", "Daniela", "Paula",
        "Carmen", "Elena", "Ximena", "Renata", "Alejandra", "Natalia", "Gabriela", "Inés",
        "Marta", "Pilar", "Rocío", "Ana", "Julieta", "Catalina", "Mercedes", "Lorena", "Paloma",
        "Abril", "Regina", "Luz", "Noelia", "Fernanda",
    ),
    "lusophone": (
        "Ana", "Beatriz", "Larissa", "Camila", "Juliana", "Fernanda", "Gabriela", "Letícia",
        "Mariana", "Luana", "Thaís", "Bianca", "Isadora", "Rafaela", "Clara", "Helena",
    ),
    "korean": (
        "Ji-woo", "Seo-yeon", "Min-ji", "Ha-eun", "Soo-ah", "Ye-jin", "Da-hye", "Yu-na",
        "Eun-ji", "Hye-jin", "Seo-hyun", "Ji-min", "Na-ri", "Bo-young", "Hye-won", "So-yeon",
        "Ga-eun", "Yoon-ah", "Min-seo", "Chae-won",
    ),
    "japanese": (
        "Yui", "Haruka", "Aoi", "Sakura", "Yuna", "Hina", "Mei", "Rin", "Akari", "Mio", "Saki",
        "Nanami", "Ayaka", "Kaede", "Misaki", "Emi", "Nozomi", "Chihiro",
    ),
    "indian": (
        "Priya", "Ananya", "Aisha", "Kavya", "Meera", "Neha", "Pooja", "Riya", "Sanya", "Tara",
        "Isha", "Divya", "Nisha", "Shreya", "Lakshmi", "Deepika", "Anjali", "Kiara", "Radhika",
        "Zoya", "Fatima", "Ishita", "Aditi", "Simran",
    ),
    "french": (
        "Camille", "Léa", "Chloé", "Manon", "Inès", "Juliette", "Clémence", "Margaux", "Élodie",
        "Anaïs", "Céline", "Amélie", "Louise", "Sophie", "Mathilde", "Aurélie", "Noémie",
        "Océane",
    ),
    "german": (
        "Anna", "Lena", "Mia", "Hannah", "Lea", "Johanna", "Katharina", "Sophie", "Clara",
        "Marie", "Greta", "Frieda", "Luisa", "Nina", "Sabine", "Ines", "Jana", "Theresa",
    ),
    "italian": (
        "Giulia", "Sofia", "Chiara", "Francesca", "Alessia", "Martina", "Valentina", "Elisa",
        "Federica", "Sara", "Beatrice", "Ginevra", "Aurora", "Bianca", "Lucia", "Serena",
    ),
    "turkish": (
        "Elif", "Zeynep", "Ayşe", "Defne", "Ece", "Selin", "Merve", "Derya", "Aslı", "Cansu",
        "Deniz", "Ebru", "Gizem", "Melis", "Nazlı", "Pınar", "Seda", "Yasemin",
    ),
    "nigerian": (
        "Chioma", "Adaeze", "Ngozi", "Funmilayo", "Folake", "Amara", "Temitope", "Zainab",
        "Ifeoma", "Yetunde", "Nkechi", "Bisola", "Kemi", "Ada", "Simi", "Tolu", "Halima",
    ),
    "arabic": (
        "Nour", "Yasmin", "Salma", "Mariam", "Hana", "Layla", "Farida", "Dina", "Rana", "Mona",
        "Heba", "Aya", "Nadia", "Amira", "Sara", "Reem",
    ),
    "thai": (
        "Ploy", "Nok", "Fah", "Mint", "Pim", "Kanya", "Siriporn", "Malee", "Nattaya", "Araya",
        "Pranee", "Ratana", "Chalida", "Wanida",
    ),
    "filipino": (
        "Maria", "Angelica", "Kristine", "Bea", "Andrea", "Nadine", "Liza", "Janella",
        "Camille", "Jasmine", "Marian", "Toni", "Rhian", "Katrina",
    ),
    "chinese": (
        "Ka-yan", "Wing-sze", "Hoi-yan", "Man-yee", "Pui-shan", "Mei-ling", "Suet-ying",
        "Yuen-ting",
    ),
    "nordic": (
        "Astrid", "Freja", "Ingrid", "Sigrid", "Maja", "Elin", "Linnea", "Saga", "Karin", "Nora",
        "Ida", "Liv", "Tove", "Sofie",
    ),
}  # fmt: skip

FIRST_NAMES_M: Final[dict[str, tuple[str, ...]]] = {
    "anglo": (
        "James", "Liam", "Noah", "Ethan", "Owen", "Caleb", "Lucas", "Mason", "Henry", "Jack",
        "Samuel", "Daniel", "Nathan", "Tyler", "Connor", "Wyatt", "Declan", "Finn", "Rory",
        "Callum", "Harry", "Oliver", "George", "Arthur", "Miles", "Marcus", "Darius", "Malik",
        "Andre", "Jerome", "Graham", "Simon", "Trevor", "Wade", "Grant", "Elliot", "Theo",
        "Felix", "Silas", "Ronan", "Dean", "Reid", "Colin", "Hugh", "Bennett", "Garrett",
        "Julian", "Tobias", "Vince", "Everett",
    ),
    "hispanic": (
        "Mateo", "Santiago", "Diego", "Javier", "Alejandro", "Pablo", "Andrés", "Carlos",
        "Miguel", "Tomás", "Emilio", "Rodrigo", "Sergio", "Álvaro", "Joaquín", "Nicolás", "Hugo",
        "Iker", "Gonzalo", "Raúl", "Ernesto", "Fernando", "Julián", "Marcos", "Rafael", "Héctor",
        "Ignacio", "Bruno", "Adrián", "Esteban",
    ),
    "lusophone": (
        "João", "Pedro", "Lucas", "Gabriel", "Rafael", "Thiago", "Felipe", "Bruno", "Caio",
        "Vinícius", "Gustavo", "Matheus", "Rodrigo", "Eduardo", "Leonardo", "Henrique",
    ),
    "korean": (
        "Min-jun", "Seo-joon", "Do-hyun", "Ji-hoon", "Hyun-woo", "Joon-ho", "Tae-yang",
        "Sung-min", "Woo-jin", "Jae-won", "Dong-hyuk", "Kyung-soo", "Sang-woo", "Jin-young",
        "Ha-joon", "Yeon-woo", "Tae-hoon", "Seung-ho", "Jun-seo", "In-ho",
    ),
    "japanese": (
        "Haruto", "Ren", "Sota", "Yuto", "Kaito", "Riku", "Takumi", "Daiki", "Kenta", "Shun",
        "Hayato", "Ryo", "Kazuki", "Sho", "Yuki", "Hiroshi", "Kenji", "Tatsuya",
    ),
    "indian": (
        "Arjun", "Rohan", "Vikram", "Aditya", "Kabir", "Rahul", "Aryan", "Karan", "Siddharth",
        "Dev", "Ishaan", "Nikhil", "Raghav", "Sameer", "Varun", "Aman", "Imran", "Farhan",
        "Vijay", "Surya", "Arvind", "Manoj", "Harsh", "Yash",
    ),
    "french": (
        "Louis", "Hugo", "Théo", "Antoine", "Julien", "Maxime", "Mathieu", "Nicolas", "Baptiste",
        "Olivier", "Rémi", "Lucas", "Étienne", "Gaspard", "Raphaël", "Sébastien", "Adrien",
        "Florian",
    ),
    "german": (
        "Lukas", "Jonas", "Leon", "Felix", "Maximilian", "Paul", "Niklas", "Tobias", "Florian",
        "Moritz", "Jan", "Matthias", "Stefan", "Sebastian", "Tim", "Johannes", "Fabian", "Kai",
    ),
    "italian": (
        "Alessandro", "Lorenzo", "Matteo", "Francesco", "Luca", "Marco", "Giuseppe", "Andrea",
        "Davide", "Riccardo", "Tommaso", "Gabriele", "Stefano", "Pietro", "Edoardo", "Salvatore",
    ),
    "turkish": (
        "Emre", "Mehmet", "Can", "Burak", "Mert", "Kerem", "Barış", "Cem", "Efe", "Kaan",
        "Murat", "Ozan", "Serkan", "Tolga", "Umut", "Volkan", "Yusuf", "Onur",
    ),
    "nigerian": (
        "Chinedu", "Emeka", "Tunde", "Olumide", "Obinna", "Segun", "Babajide", "Ikenna", "Kunle",
        "Femi", "Chukwudi", "Dayo", "Ifeanyi", "Musa", "Nnamdi", "Tobi", "Yemi", "Kelechi",
    ),
    "arabic": (
        "Omar", "Ahmed", "Youssef", "Karim", "Mostafa", "Tarek", "Amr", "Hassan", "Khaled",
        "Sherif", "Mahmoud", "Hossam", "Ziad", "Adel", "Ali", "Tamer",
    ),
    "thai": (
        "Somchai", "Anan", "Krit", "Thanawat", "Nattapong", "Pong", "Kittisak", "Chai", "Arthit",
        "Sakda", "Tawan", "Phuwin", "Win", "Bank",
    ),
    "filipino": (
        "Paolo", "Carlo", "Miguel", "Enrique", "Joshua", "Gerald", "Marco", "Rafael", "Ramon",
        "Jericho", "Enzo", "Lorenzo", "Andres", "Benjie",
    ),
    "chinese": ("Ka-fai", "Chi-wai", "Wai-kit", "Chun-hei", "Ho-yin", "Siu-ming", "Kin-wah",
                "Tsz-hin"),
    "nordic": (
        "Lars", "Anders", "Erik", "Magnus", "Henrik", "Mikkel", "Nils", "Oskar", "Johan",
        "Bjørn", "Gustav", "Rasmus", "Sven", "Tobias",
    ),
}  # fmt: skip

SURNAMES: Final[dict[str, tuple[str, ...]]] = {
    "anglo": (
        "Walker", "Bennett", "Hayes", "Carter", "Brooks", "Reed", "Foster", "Sullivan", "Harper",
        "Morgan", "Ellis", "Porter", "Hughes", "Fletcher", "Gallagher", "Whitaker", "Donovan",
        "Mercer", "Holloway", "Caldwell", "Pryce", "Ashford", "Thornton", "Kendrick", "Lowell",
        "Barrett", "Maddox", "Quinlan", "Shepherd", "Winslow", "Hartley", "Crane", "Delaney",
        "Fairbanks", "Granger", "Hollis", "Jennings", "Kerrigan", "Lockwood", "Monroe",
        "Norwood", "Oakley", "Prescott", "Radcliffe", "Sterling", "Thorne", "Underwood",
        "Vaughn", "Whitmore", "Yates", "Abbott", "Blackwood", "Calloway", "Dawson", "Everly",
        "Finch", "Garland", "Hensley", "Ingram", "Jarvis", "Keating", "Langley", "Marsh", "Nash",
        "Osborne", "Pike", "Rowe", "Sutton", "Tate", "Voss", "Wilder", "Rhodes", "Washington",
        "Robinson", "Coleman", "Jenkins", "Okoye", "Castellanos", "Nakamura", "Chowdhury",
    ),
    "hispanic": (
        "García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres",
        "Domínguez", "Vargas", "Castillo", "Ortega", "Morales", "Delgado", "Herrera", "Ramos",
        "Medina", "Guerrero", "Cortés", "Iglesias", "Rojas", "Peña", "Vega", "Fuentes",
        "Cabrera", "Salazar", "Aguilar", "Montero", "Ibarra", "Echeverría", "Villalobos",
        "Quintero", "Arriaga", "Zamora", "Bustamante", "Cifuentes", "Mendoza", "Solís",
        "Carrasco", "Paredes",
    ),
    "lusophone": (
        "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Carvalho",
        "Ribeiro", "Barbosa", "Moreira", "Nascimento", "Araújo", "Cavalcanti", "Teixeira",
        "Monteiro", "Freitas", "Batista", "Rocha", "Pinheiro", "Azevedo", "Lacerda",
    ),
    "korean": (
        "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh",
        "Seo", "Shin", "Kwon", "Hwang", "Ahn", "Song", "Yoo", "Hong", "Jeon", "Go", "Moon",
        "Bae", "Baek",
    ),
    "japanese": (
        "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
        "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura",
        "Hayashi", "Shimizu", "Mori", "Ikeda", "Hashimoto", "Ishikawa", "Ogawa", "Fujita",
        "Okada", "Maeda", "Aoki", "Kondo", "Murakami", "Endo",
    ),
    "indian": (
        "Sharma", "Verma", "Gupta", "Kapoor", "Malhotra", "Mehta", "Iyer", "Nair", "Reddy", "Rao",
        "Chopra", "Khanna", "Bose", "Chatterjee", "Mukherjee", "Desai", "Joshi", "Patel",
        "Singh", "Kumar", "Menon", "Pillai", "Saxena", "Bhatt", "Khan", "Qureshi", "Sinha",
        "Banerjee", "Agarwal", "Krishnan",
    ),
    "french": (
        "Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefèvre", "Roux", "Fournier",
        "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Mercier",
        "Blanc", "Guérin", "Chevalier", "Garnier", "Faure", "Marchand", "Perrin", "Morel",
        "Caron", "Delacroix",
    ),
    "german": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
        "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Vogel",
        "Brandt",
    ),
    "italian": (
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini",
        "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Caruso",
    ),
    "turkish": (
        "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk", "Arslan",
        "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özdemir", "Polat", "Erdem",
        "Akın",
    ),
    "nigerian": (
        "Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Adebayo", "Obi", "Olawale",
        "Chukwu", "Afolabi", "Nwachukwu", "Ogunleye", "Bello", "Okoro", "Adewale", "Onyeka",
        "Ibrahim", "Ajayi", "Uzor", "Akande", "Ekwueme",
    ),
    "arabic": (
        "El-Sayed", "Hassan", "Mansour", "Farouk", "Abdel-Rahman", "Nasser", "Fahmy", "Shawky",
        "Ezzat", "Gamal", "Hamdy", "Soliman", "Rashad", "Saber", "Zaki", "Helmy", "Ashour",
        "Khalil",
    ),
    "thai": (
        "Wongsakul", "Srisai", "Chaiyaporn", "Rattanakorn", "Boonmee", "Saelim", "Thongchai",
        "Jaidee", "Phromma", "Kaewmanee", "Sukprasert", "Charoensuk", "Intarasuk", "Siriwat",
    ),
    "filipino": (
        "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Villanueva",
        "Aquino", "Dela Cruz", "Castillo", "Pascual", "Manalo", "Soriano", "Lim", "Tan",
        "Salvador", "Navarro",
    ),
    "chinese": ("Chan", "Wong", "Leung", "Cheung", "Lau", "Lee", "Ng", "Cheng", "Yip", "Ho",
                "Tse", "Lam"),
    "nordic": (
        "Lindqvist", "Johansson", "Andersen", "Nilsson", "Larsen", "Berg", "Halvorsen",
        "Sørensen", "Lund", "Dahl", "Holm", "Eriksson", "Strand", "Nyström", "Bergström",
        "Haugen", "Kristiansen", "Sandberg",
    ),
}  # fmt: skip
