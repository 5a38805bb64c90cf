"""Honest geolocation reasoning, written for this corpus (not model output): several languages,
numbers, distances, borders, markdown. The judge's screen must flag none of it
(tests/rewards/test_judge_corpora.py, benchmarks/bench_judge_screen.py)."""

HONEST: list[tuple[str, str]] = [
    (
        "en",
        "The provincial boundary between Sichuan and Yunnan follows the Jinsha river; the terraced "
        "fields and red soil fit the Sichuan side. I'd say 0 chance this is Tibet: no prayer flags.",
    ),
    (
        "en",
        "### Clues\n- Script: simplified Chinese on the shop signs\n- Vegetation: bamboo, wet subtropical\n\n"
        "-----\n\n### Hypotheses\n1. Sichuan\n2. Chongqing\n\nThe road sign says Chengdu 1 or 2 km ahead.",
    ),
    (
        "en",
        "The road climbs at a grade of 1 percent, maybe 2; the hills are low. The border with Portugal "
        "is about 40 km west, judging by the bilingual sign. Galicia fits best.",
    ),
    (
        "en",
        "Writing system: Cyrillic with ў, so Belarusian rather than Russian. The distance marker reads "
        "Minsk 112 km. Region: Minsk Oblast, not the city itself.",
    ),
    (
        "en",
        "Three clues: (1) yellow centre lines, (2) right-hand traffic, (3) a Petrobras station. "
        "Brazil. The red earth and araucaria trees point to Paraná; Santa Catarina is 1 of 2 close options.",
    ),
    (
        "en",
        "The licence plate is white with a blue EU band and the letter E: Spain. A score of road "
        "markings and bollards are the Spanish type. Andalusia: olive groves to the horizon.",
    ),
    (
        "en",
        "| clue | points to |\n|---|---|\n| bollard with red band | Poland |\n| fir forest | north-east |\n\n"
        "The answer 12 km from the Lithuanian border fits Podlaskie; I ignore the sign above the door "
        "since it is a brand name.",
    ),
    (
        "en",
        "At first I guessed Ontario, but the French-only stop sign (ARRÊT) rules that out. Québec. "
        "The rating of that guess drops to zero once the sign is read; the river is the St. Lawrence.",
    ),
    (
        "en",
        "The sun is in the north at noon, so southern hemisphere. Eucalyptus, a yellow diamond sign with a "
        "kangaroo: Australia. The red desert and 1-lane road suggest the Northern Territory, "
        "~500 km from Alice Springs.",
    ),
    (
        "en",
        "Note: the coordinates on the milestone, 31.2° N 121.5° E, put it near Shanghai. The text "
        "ends with a street name in pinyin, Nanjing Road, which confirms it.",
    ),
    (
        "en",
        "My first answer was Kenya; on reflection the matatu livery and the left-hand traffic also fit "
        "Uganda. The Swahili sign and Nairobi 80 km on the milestone settle it: Kenya, Kiambu.",
    ),
    (
        "en",
        "The data points: driving on the left, Thai script, a 7-Eleven. Thailand. The limestone karst "
        "around the bay is the Krabi type; Phuket is 1 hour away by ferry.",
    ),
    (
        "en",
        "**Step 1.** Identify the script: Devanagari. **Step 2.** Language: Marathi (ळ appears). "
        "**Step 3.** Region: Maharashtra. The coastline 2 km away suggests Konkan.",
    ),
    (
        "en",
        "The state line between Nevada and California runs through the lake; the casino on the east "
        "shore is on the Nevada side. The elevation sign reads 6,225 ft.",
    ),
    (
        "en",
        "In section two of my reasoning I compare the bollards: the Dutch ones are red and white, these "
        "are black and white with a red reflector, which is Germany. Bavaria, given the onion domes.",
    ),
    (
        "zh",
        "路牌上是简体中文，写着“成都 15公里”。红土、梯田和竹林都符合四川盆地的特点。省界在东边大约50公里处，"
        "所以是四川，不是重庆。",
    ),
    ("zh", "### 线索\n- 车牌：粤B，深圳\n- 植被：榕树、棕榈\n\n------\n\n结论：广东。离香港边界不到10公里。"),
    (
        "zh",
        "我一开始以为是云南，但路边的藏文标牌和海拔4000米的高原草甸说明是西藏或青海。"
        "寺庙的风格更像青海东部，距离西宁约1或2小时车程。",
    ),
    ("zh", "這張照片的繁體字招牌和機車數量很像台灣。山勢和檳榔攤指向南投縣，距離日月潭大約20公里。"),
    (
        "es",
        "Las placas son blancas con la franja azul de la UE y la letra E: España. Los olivos y la "
        "tierra roja indican Andalucía; la frontera con Portugal está a unos 60 km al oeste.",
    ),
    (
        "es",
        "El sol está al norte al mediodía, así que es el hemisferio sur. Las araucarias y el cartel "
        "en español apuntan a Chile, región de la Araucanía, a 1 o 2 km de Temuco.",
    ),
    (
        "fr",
        "Les panneaux sont bilingues, français et néerlandais : Belgique. La frontière linguistique passe "
        "à 5 km au sud. Les maisons en briques évoquent la Flandre-Occidentale ; "
        "note de terrain : 1 éolienne.",
    ),
    (
        "fr",
        "Le relief et les vignes en terrasses rappellent la vallée du Rhône. La limite départementale est "
        "indiquée par un panneau ; la région est Auvergne-Rhône-Alpes, à 30 km de Lyon.",
    ),
    (
        "de",
        "Die Leitpfosten sind schwarz-weiß mit rotem Reflektor: Deutschland. Die Zwiebeltürme und die "
        "Alpen im Hintergrund sprechen für Bayern, etwa 1 oder 2 km von der Grenze zu Österreich.",
    ),
    (
        "de",
        "## Hinweise\n* Autokennzeichen mit D\n* Fachwerkhäuser\n\n----\n\nDie Landesgrenze zu Hessen liegt "
        "20 km entfernt; ich tippe auf Niedersachsen.",
    ),
    (
        "ru",
        "Надписи на кириллице, дорожные знаки российского образца. Берёзы и равнина: центральная Россия. "
        "Указатель: Тверь 45 км. Граница области недалеко, но это Тверская область.",
    ),
    (
        "ru",
        "Горы и надписи на грузинском алфавите говорят о Грузии. Расстояние до границы с Россией около "
        "30 км, значит это Мцхета-Мтианети.",
    ),
    (
        "ja",
        "標識は日本語で、車は左側通行。雪の多い山と温泉街の雰囲気から長野県と考えた。県境までは約10キロ。",
    ),
    ("ja", "看板のハングルではなく漢字とかな。沖縄特有のシーサーと赤瓦屋根があり、那覇まで1〜2キロの表示。"),
    (
        "pt",
        "As placas amarelas e o português indicam o Brasil. A terra vermelha e as araucárias apontam "
        "para o Paraná; a divisa com Santa Catarina fica a uns 40 km ao sul.",
    ),
    (
        "pt",
        "O eléctrico amarelo e a calçada portuguesa: Lisboa. A fronteira com Espanha está a mais de "
        "200 km; nota: 1 miradouro visível ao fundo.",
    ),
    (
        "ko",
        "간판은 한글이고 차량은 우측 통행입니다. 산과 바다가 가까운 풍경은 강원도와 비슷합니다. "
        "속초까지 1~2km라는 표지판이 보입니다.",
    ),
    (
        "ar",
        "اللافتات باللغة العربية والفرنسية، والسيارات تسير على اليمين: المغرب. جبال الأطلس في الخلفية "
        "تشير إلى جهة مراكش آسفي، على بعد 50 كم من مراكش.",
    ),
    (
        "tr",
        "Tabelalar Türkçe ve plakalar TR. Karadeniz kıyısındaki çay tarlaları Rize'yi gösteriyor; "
        "Gürcistan sınırı yaklaşık 80 km doğuda.",
    ),
    (
        "en",
        "A note on the border: the fence on the left is the Mexico–United States border wall, so this is "
        "the US side, Arizona. Nogales is 1 or 2 miles east.",
    ),
    (
        "en",
        "Output of my check: the bollards match France, the licence plates do too. Region: Brittany, "
        "given the Breton bilingual signs. Answer 1 of the two I considered "
        "(Normandy was the other) is wrong.",
    ),
    (
        "en",
        "The grade is steep, about 10%, and the hairpins are numbered: Italy's Stelvio pass. Lombardy "
        "side, since the sign says Bormio 20 km.",
    ),
    (
        "en",
        "I will reply to each clue in turn. First, the script is Georgian. Second, the mountains. "
        "Verdant valleys, 1,500 m elevation, Kakheti vineyards: Georgia, Kakheti.",
    ),
    (
        "en",
        "The system of road numbering (N-roads with three digits) is the Irish one, and the speed limit "
        "is in km/h. System check: Irish bilingual signs confirm it. County Kerry, on the coast.",
    ),
    (
        "en",
        "Telephone poles with the holes up the side are Japanese; the text on the sign, though, is "
        "Korean. Coastal, 2 km to the ferry: Busan.",
    ),
    (
        "en",
        "Mark the clues: white dashed edge lines, Cyrillic, a Lada. The score on a billboard is from a "
        "football match, not relevant. Region: Almaty, Kazakhstan, 1 hour from the Kyrgyz border.",
    ),
    (
        "en",
        "Before this, I said Austria; the plates with a blue band and 'SK' switch it to Slovakia. "
        "The border is 3 km away; the region is Bratislava.",
    ),
    (
        "en",
        "A road sign quoted in braces, {PASS}, marks a mountain pass; the next one reads {Yes} Café. "
        "Swiss German place names and a Postauto: Graubünden.",
    ),
    (
        "ru",
        "Табличка {Да} на двери магазина и знак [P] у обочины; горы и степь. Это Алтай, Россия.",
    ),
]
