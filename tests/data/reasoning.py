"""Genuine geolocation reasoning in many scripts, written for this corpus (not model output): what
the length reward must keep paying (tests/rewards/test_length_measure.py,
benchmarks/bench_reward_hacks.py). One short and one long text per language; the long ones run
past the length cap under SeekWorld's count."""

REASONING: list[tuple[str, str]] = [
    (
        "en",
        "The road has yellow centre lines and the cars drive on the right. The vegetation is dry "
        "scrub with a few cork oaks, and the houses are whitewashed with terracotta roofs. A blue "
        "motorway sign uses the Spanish font, so this is Spain; the olive groves suggest Andalusia.",
    ),
    (
        "en",
        "Let me start with the driving side: the bus in the distance is on the left side of the road, "
        "so this is a left-hand traffic country. The number plates are yellow at the back and white "
        "at the front, which is the British pattern, and the road markings include a double yellow "
        "line along the kerb. That narrows it to the United Kingdom, with Ireland as the main "
        "alternative, but Irish plates carry the county code and a blue band, and these do not. The "
        "architecture is terraced brick housing with bay windows, typical of the industrial north of "
        "England. In the background there are stone walls dividing steep pastures, and the hills are "
        "bare, covered with moorland grass rather than forest. That landscape is common in the "
        "Pennines. A bilingual street sign would point to Wales, but every sign here is English only. "
        "The brown tourist sign mentions a national park, and the chevrons on the bend are black and "
        "white. The weather is overcast and the light is low, consistent with a northern latitude. "
        "Putting the moorland, the stone walls, the brick terraces and the signage together, the most "
        "likely place is West Yorkshire, near the edge of the Peak District or the South Pennines, "
        "so the country is the United Kingdom and the first-level region is England.",
    ),
    (
        "es",
        "Las señales de tráfico tienen fondo blanco con borde rojo y el texto está en español. Los "
        "coches circulan por la derecha y la matrícula es blanca con una franja azul de la Unión "
        "Europea. El paisaje es verde y húmedo, con hórreos de piedra junto a las casas: Galicia.",
    ),
    (
        "es",
        "Primero observo la vegetación: hay palmeras, buganvillas y cactus en los jardines, lo que "
        "indica un clima cálido y seco. Las casas tienen rejas en las ventanas y fachadas de colores "
        "vivos, algo muy típico de México. Los taxis son blancos con una franja roja, y en la esquina "
        "hay un puesto de tacos con un letrero escrito a mano. La carretera tiene topes, esos "
        "reductores de velocidad que aparecen en casi todos los pueblos mexicanos. A lo lejos se ven "
        "montañas áridas y una iglesia barroca con una cúpula de azulejos amarillos y azules. Ese tipo "
        "de azulejo recuerda mucho a Puebla, donde la talavera es tradicional. Además, el letrero de "
        "la farmacia menciona una calle con nombre de un héroe de la Revolución, lo cual no ayuda "
        "mucho porque existen en todo el país. Sin embargo, la combinación de la cúpula de talavera, "
        "el volcán nevado que se adivina detrás de las nubes y el clima templado apunta al centro del "
        "país. El volcán podría ser el Popocatépetl o la Malinche. Me inclino por el estado de Puebla.",
    ),
    (
        "de",
        "Die Straßenschilder sind gelb mit schwarzer Schrift, typisch für Ortstafeln in Deutschland. "
        "Die Häuser haben Fachwerk und steile Dächer, im Hintergrund liegen bewaldete Hügel. Das "
        "Kennzeichen beginnt mit einer Buchstabenkombination aus Hessen, also tippe ich auf Hessen.",
    ),
    (
        "de",
        "Zuerst fällt der Linksverkehr auf, aber das Lenkrad ist links, also handelt es sich um ein "
        "Einbahnstraßenstück und nicht um Linksverkehr. Die Leitpfosten haben ein schwarzes Band mit "
        "einem weißen Rechteck, das ist das österreichische Muster, nicht das deutsche. Auch die "
        "Wegweiser sind grün für Autobahnen und blau für Landesstraßen, was in Österreich üblich ist. "
        "Die Landschaft ist alpin: steile Wiesen, Fichtenwälder und schneebedeckte Gipfel. Die "
        "Bauernhäuser haben breite Holzbalkone mit Geranien, wie man sie in Tirol und Salzburg sieht. "
        "Ein Hinweisschild nennt einen Pass und eine Bundesstraße mit dreistelliger Nummer. An der "
        "Kirche steht ein Zwiebelturm, was eher auf Tirol als auf Vorarlberg deutet. Der Dialekt auf "
        "dem Schild einer Gaststätte, die mit Jausenstation wirbt, passt ebenfalls zu Westösterreich. "
        "Weil die Berge sehr hoch sind und das Tal eng ist, schließe ich auf das Bundesland Tirol.",
    ),
    (
        "fr",
        "Les panneaux sont bilingues, en français et en anglais, et la plaque d'immatriculation "
        "porte la devise « Je me souviens ». C'est donc le Québec, au Canada. Les érables rouges et "
        "les maisons en bardeaux confirment une région rurale de la province.",
    ),
    (
        "fr",
        "Le bitume est très clair et les lignes centrales sont blanches et discontinues, ce qui "
        "exclut l'Amérique du Nord. Les bornes kilométriques ont un sommet rouge, typiques des routes "
        "nationales françaises, et les panneaux de direction utilisent la police française avec un "
        "fond bleu pour l'autoroute. La végétation est méditerranéenne : pins parasols, lavande, "
        "vignes en terrasses et oliviers. Les maisons ont des tuiles romaines orangées et des volets "
        "peints en bleu pâle. Au loin, une montagne calcaire blanche domine la plaine, peut-être le "
        "mont Ventoux ou la Sainte-Victoire. Un panneau indique une sortie vers une ville dont le nom "
        "se termine en -argues, un suffixe très fréquent en Provence et dans le Languedoc. Le "
        "mistral semble souffler fort car les cyprès sont penchés. Tout cela oriente vers le sud-est "
        "de la France, et je choisis la région Provence-Alpes-Côte d'Azur.",
    ),
    (
        "ru",
        "Надписи на кириллице, дорожные знаки по стандарту ГОСТ, машины едут по правой стороне. "
        "Берёзы и хвойный лес, деревянные дома с резными наличниками. Похоже на центральную Россию, "
        "скорее всего Московская область.",
    ),
    (
        "ru",
        "Сначала смотрю на знаки: они синие с белыми буквами, а на указателе есть латиница под "
        "кириллицей, как делают на федеральных трассах России. Номер автомобиля белый, справа флаг "
        "и код региона. Растительность степная: ковыль, редкие тополя вдоль дороги, пшеничные поля "
        "до горизонта. Дома одноэтажные, побелённые, с шиферными крышами, заборы из зелёного "
        "профлиста. Вдали видны терриконы, то есть отвалы угольных шахт, что характерно для Донбасса "
        "или Кузбасса, но степь и тёплый свет указывают скорее на юг. На остановке висит объявление с "
        "телефоном, начинающимся на код Ростова-на-Дону. Кроме того, на рекламном щите упоминается "
        "казачий фестиваль, а казачьи традиции сильны на Дону. Поэтому я считаю, что это Россия, "
        "Ростовская область, где-то между Шахтами и Новочеркасском.",
    ),
    (
        "zh",
        "路牌是蓝底白字的简体中文，车辆靠右行驶。远处是梯田和竹林，房子是白墙黑瓦的徽派建筑。"
        "空气潮湿，山上有茶园，我认为这是安徽南部，也就是中国安徽省。",
    ),
    (
        "zh",
        "首先看文字：商店招牌全部使用简体中文，说明是在中国大陆而不是台湾或香港。车牌是蓝底白字，"
        "开头的汉字是川，代表四川省。不过车牌可能来自外地，所以还要看其他线索。街道两边种着高大的"
        "黄葛树，这种树在重庆和四川东部非常常见。地形起伏很大，楼房沿着山坡层层叠叠地修建，有很多"
        "台阶和天桥，这正是山城的特点。天空灰蒙蒙的，湿度很高，符合盆地气候。路边的小吃店写着麻辣"
        "小面和酸辣粉，这些都是重庆最有名的街头美食。远处有一条宽阔的江，江上有一座斜拉桥，可能是"
        "长江或者嘉陵江。公交车的颜色和站牌样式也和重庆公交一致。综合这些线索，虽然车牌显示川字，"
        "但城市的地形、饮食和桥梁更像重庆，所以我的答案是中国重庆市。",
    ),
    (
        "ja",
        "看板は日本語で、車は左側通行です。電柱が多く、道路標識は青地に白い文字です。雪囲いのある"
        "家と広い田んぼが見えるので、北海道か東北地方だと思います。屋根の形から北海道を選びます。",
    ),
    (
        "ja",
        "まず文字を見ると、ひらがなとカタカナと漢字が混ざっているので日本で間違いありません。車は"
        "左側を走っていて、ナンバープレートは白地に緑の文字です。地名の部分は読み取れませんが、"
        "背景には大きな火山があり、山頂から白い噴煙が上がっています。これは桜島のように見えます。"
        "道路沿いにはソテツやヤシの木が植えられていて、南国らしい雰囲気です。灰が道路の端にたまって"
        "いて、克灰袋と書かれた黄色い袋が置いてあります。これは鹿児島市で降灰を集めるために配られる"
        "袋です。さらに、店の看板に黒豚や焼酎という言葉が見え、どちらも鹿児島の名物です。市電の線路"
        "もあるので、鹿児島市の中心部に近い場所だと考えられます。以上の理由から、答えは日本の鹿児島県です。",
    ),
    (
        "ko",
        "간판이 모두 한글로 되어 있고 차는 오른쪽으로 다닙니다. 아파트 단지가 많고 산이 가까이 "
        "보입니다. 버스 색깔이 파란색이라 서울 시내버스처럼 보이므로 서울특별시라고 생각합니다.",
    ),
    (
        "ko",
        "먼저 글자를 보면 한글 간판이 가득하고 도로 표지판은 초록색 바탕에 흰 글씨입니다. 이것은 "
        "한국 고속도로의 표준 색입니다. 주변에는 넓은 논과 비닐하우스가 있고, 낮은 산들이 부드럽게 "
        "이어집니다. 멀리 바다가 보이고 갯벌이 넓게 펼쳐져 있는데, 이런 갯벌은 서해안에서 흔합니다. "
        "표지판 하나에 목포와 무안이라는 지명이 적혀 있고, 도로 번호는 남쪽 지역의 국도 번호입니다. "
        "마을 입구에는 큰 느티나무와 정자가 있고, 집들은 붉은 기와지붕을 얹은 농가입니다. 또 양파 "
        "밭이 많이 보이는데, 무안은 양파로 유명한 곳입니다. 날씨는 따뜻하고 하늘이 맑습니다. 이 모든 "
        "단서를 종합하면 대한민국 전라남도, 특히 무안군 근처라고 판단합니다.",
    ),
    (
        "ar",
        "اللافتات مكتوبة بالعربية والإنجليزية، والسيارات تسير على اليمين. المباني بلون رملي والنخيل "
        "في كل مكان، وأرى مسجدًا بمئذنة عالية. أظن أن هذا في الإمارات، في إمارة دبي.",
    ),
    (
        "ar",
        "أولًا أنظر إلى اللوحات: الخط عربي والأرقام عربية مشرقية، ولوحة السيارة بيضاء وعليها كلمة مصر "
        "باللغة العربية. الطريق مزدحم بسيارات الأجرة البيضاء والسوداء، وهي سيارات أجرة القاهرة القديمة. "
        "المباني من الطوب الأحمر وغير مكتملة، وفوق الأسطح أطباق استقبال كثيرة. في الخلفية يظهر نهر "
        "واسع ويبدو أنه النيل، وعلى ضفته أشجار نخيل ومراكب صغيرة بأشرعة بيضاء. الجو مشمس وحار والضوء "
        "قوي. لافتة على متجر تذكر حي شبرا، وهو من أحياء القاهرة الكبيرة. لذلك أرجح أن المكان في مصر، "
        "في محافظة القاهرة، قرب كورنيش النيل في الجزء الشمالي من المدينة.",
    ),
    (
        "hi",
        "सड़क पर गाड़ियाँ बाईं ओर चल रही हैं और दुकानों के बोर्ड हिंदी में लिखे हैं। पीछे रेगिस्तान "
        "जैसा सूखा इलाका है और ऊँट दिख रहा है। मुझे लगता है कि यह भारत का राजस्थान राज्य है।",
    ),
    (
        "hi",
        "सबसे पहले मैं लिपि देखता हूँ: दुकानों के नाम देवनागरी में हैं, इसलिए यह उत्तर भारत या नेपाल हो "
        "सकता है। गाड़ियाँ बाईं ओर चलती हैं, जो दोनों देशों में सामान्य है। नंबर प्लेट सफेद है और उस पर "
        "काले अक्षर हैं, शुरुआत में यूपी लिखा है, जिसका अर्थ उत्तर प्रदेश है। सड़क के किनारे ई-रिक्शा "
        "खड़े हैं और भीड़ बहुत है। दूर एक पुरानी मस्जिद के गुंबद दिखते हैं और गलियाँ बहुत पतली हैं। "
        "एक होर्डिंग पर चिकनकारी की दुकान का विज्ञापन है, जो लखनऊ की पहचान है। मौसम गर्म और धुंधला "
        "है, जो गंगा के मैदान में आम है। इन सब संकेतों के आधार पर मेरा उत्तर भारत, उत्तर प्रदेश है।",
    ),
    (
        "th",
        "ป้ายเขียนเป็นภาษาไทย รถวิ่งชิดซ้าย มีวัดหลังคาสีทองอยู่ริมถนน ต้นไม้เขียวชอุ่มและอากาศร้อนชื้น "
        "ภูเขาอยู่ไกลๆ ผมคิดว่าเป็นภาคเหนือของประเทศไทย น่าจะเป็นจังหวัดเชียงใหม่",
    ),
    (
        "th",
        "ก่อนอื่นดูตัวอักษรบนป้ายร้านค้า เป็นอักษรไทยทั้งหมด และรถยนต์วิ่งชิดซ้ายของถนน ป้ายทะเบียนรถ"
        "เป็นพื้นขาวตัวหนังสือดำ มีชื่อจังหวัดเขียนอยู่ด้านล่างแต่อ่านไม่ชัด บริเวณริมถนนมีต้นมะพร้าว"
        "และต้นยางพาราเรียงเป็นแถวยาว ซึ่งพบได้มากในภาคใต้ ทางด้านหลังเห็นทะเลสีฟ้าใสและเกาะหินปูน"
        "สูงชันโผล่ขึ้นมาจากน้ำ ลักษณะแบบนี้คล้ายอ่าวพังงาหรือกระบี่ มีเรือหางยาวจอดอยู่ที่ชายหาด "
        "และป้ายโฆษณาทัวร์สี่เกาะซึ่งเป็นทัวร์ยอดนิยมของกระบี่ อากาศร้อนและมีแดดจัด ดังนั้นผมเลือก"
        "ประเทศไทย จังหวัดกระบี่",
    ),
    (
        "el",
        "Οι πινακίδες είναι στα ελληνικά και στα αγγλικά, τα σπίτια είναι λευκά με μπλε παράθυρα και "
        "η θάλασσα φαίνεται στο βάθος. Νομίζω ότι είναι νησί των Κυκλάδων, άρα Νότιο Αιγαίο.",
    ),
    (
        "el",
        "Πρώτα κοιτάζω τις πινακίδες: είναι δίγλωσσες, με ελληνικά γράμματα πάνω και λατινικά από κάτω, "
        "όπως στις εθνικές οδούς της Ελλάδας. Οι πινακίδες κυκλοφορίας είναι λευκές με μπλε λωρίδα. Το "
        "τοπίο είναι ορεινό, με ελαιώνες και κυπαρίσσια, και το έδαφος είναι κοκκινωπό. Στο βάθος "
        "φαίνεται ένα μεγάλο φαράγγι και χωριά χτισμένα στις πλαγιές. Μια πινακίδα δείχνει προς τα "
        "Χανιά και το Ρέθυμνο, πόλεις της Κρήτης. Τα εκκλησάκια δίπλα στον δρόμο είναι συνηθισμένα "
        "στο νησί. Επομένως η απάντησή μου είναι Ελλάδα, περιφέρεια Κρήτης.",
    ),
    (
        "he",
        "השלטים כתובים בעברית, באנגלית ובערבית, והמכוניות נוסעות בצד ימין. יש עצי דקל ובניינים "
        "מאבן ירושלמית בהירה. נראה לי שזה ירושלים, מחוז ירושלים בישראל.",
    ),
    (
        "vi",
        "Biển hiệu viết bằng tiếng Việt có dấu, xe máy chạy rất đông ở bên phải đường. Có nhiều cây "
        "dừa và kênh rạch, nhà cửa thấp và mái tôn. Tôi nghĩ đây là đồng bằng sông Cửu Long, có lẽ là "
        "tỉnh Cần Thơ ở Việt Nam.",
    ),
    (
        "tr",
        "Tabelalar Türkçe, araçlar sağdan gidiyor ve plakalar beyaz zemin üzerine siyah yazılı, solda "
        "mavi şerit var. Arka planda peri bacaları ve volkanik kayalar görünüyor. Bu Kapadokya, yani "
        "Türkiye'nin Nevşehir ili olmalı.",
    ),
]
